// Angular in JIT mode: zone.js first, then the compiler, which compiles the components'
// templates in the browser (esbuild bundles the TypeScript but does not run Angular's compiler).
import "zone.js";
import "@angular/compiler";
import { bootstrapApplication } from "@angular/platform-browser";
import { AppComponent } from "./app.component";
import { appConfig } from "./app.config";

bootstrapApplication(AppComponent, appConfig).catch((err) => console.error(err));
