import { runServiceProcess } from "@blueprint/service-kit";
import { userService } from "./service";

runServiceProcess(userService);
