import { runRedrive } from "./redrive/cli";

// `npm run redrive -- <subcommand>` locally, `node services/notification-service/dist/redrive.js <subcommand>` in the image.
runRedrive(process.argv.slice(2), process.env, { out: console.log, err: console.error }).then((code) =>
  process.exit(code),
);
