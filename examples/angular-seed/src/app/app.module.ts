// The app module of Microsoft's "Single-page application: acquire a token to call an API"
// (the Angular tab for msal-angular 1.x): MsalModule.forRoot with the MSAL configuration and
// the msal-angular configuration, and MsalInterceptor among the HTTP interceptors. The one
// change for Sigil is in `auth`: Sigil's authority, its host in knownAuthorities, and the
// redirect URI, all read from window.sigilConfig (/config.js); the protected resource is
// Sigil's profile API (GET /v1.0/me) in place of Microsoft Graph's.
import { ErrorHandler, NgModule } from '@angular/core';
import { BrowserModule } from '@angular/platform-browser';
import { HTTP_INTERCEPTORS, HttpClientModule } from '@angular/common/http';
import { MsalModule, MsalInterceptor } from '@azure/msal-angular';

import { AppRoutingModule } from './app-routing.module';
import { AppComponent } from './app.component';
import { ShellComponent } from './shell.component';
import { EventLog, RecordErrors, RecordSentHeaders } from './event-log.service';
import { sigil } from './sigil';

const isIE = window.navigator.userAgent.indexOf('MSIE ') > -1 || window.navigator.userAgent.indexOf('Trident/') > -1;

@NgModule({
  declarations: [
    ShellComponent,
    AppComponent,
  ],
  imports: [
    BrowserModule,
    HttpClientModule,
    AppRoutingModule,
    MsalModule.forRoot({
      auth: {
        clientId: sigil.clientId,
        authority: sigil.authority,
        knownAuthorities: [sigil.knownAuthority],
        redirectUri: sigil.origin + '/',
      }
    },
    {
      popUp: !isIE,
      consentScopes: [
        'user.read',
        'openid',
        'profile',
      ],
      protectedResourceMap: [
        [sigil.apiUrl, ['user.read']]
      ]
    })
  ],
  providers: [
    {
      provide: HTTP_INTERCEPTORS,
      useClass: MsalInterceptor,
      multi: true
    },
    // Not in the documented module: an interceptor after MsalInterceptor that writes down the
    // Authorization header each request leaves with, so the page can show it.
    {
      provide: HTTP_INTERCEPTORS,
      useClass: RecordSentHeaders,
      multi: true
    },
    { provide: ErrorHandler, useClass: RecordErrors },
    EventLog,
  ],
  // The documented app bootstraps AppComponent; here a shell around it can remove it from the
  // page (and add it again), so that its ngOnDestroy runs without a page load.
  bootstrap: [ShellComponent]
})
export class AppModule { }
