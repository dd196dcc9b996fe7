import { runServiceProcess } from "@blueprint/service-kit";
import { notificationService } from "./service";

runServiceProcess(notificationService);
