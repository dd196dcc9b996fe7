import { runMigrateProcess } from "@blueprint/service-kit";
import { userService } from "./service";

runMigrateProcess(userService);
