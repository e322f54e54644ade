// The routing module of an Angular CLI app, which the documented module imports. MsalService
// needs Angular's Router; this app has a single page, so there are no routes.
import { NgModule } from '@angular/core';
import { Routes, RouterModule } from '@angular/router';

const routes: Routes = [];

@NgModule({
  imports: [RouterModule.forRoot(routes)],
  exports: [RouterModule]
})
export class AppRoutingModule { }
