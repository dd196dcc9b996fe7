import { runMigrateProcess } from "@blueprint/service-kit";
import { notificationService } from "./service";

runMigrateProcess(notificationService);
