import { runServiceProcess } from "@blueprint/service-kit";
import { orderService } from "./service";

runServiceProcess(orderService);
