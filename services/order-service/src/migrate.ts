import { runMigrateProcess } from "@blueprint/service-kit";
import { orderService } from "./service";

runMigrateProcess(orderService);
