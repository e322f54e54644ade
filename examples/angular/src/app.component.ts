import { Component, DestroyRef, OnInit, inject, signal } from "@angular/core";
import { takeUntilDestroyed } from "@angular/core/rxjs-interop";
import { RouterLink, RouterOutlet } from "@angular/router";
import { MsalBroadcastService, MsalService, version as msalAngularVersion } from "@azure/msal-angular";
import { AuthenticationResult, EventMessage, EventType, InteractionStatus, version as msalBrowserVersion } from "@azure/msal-browser";
import { filter } from "rxjs";
import { EventLog } from "./event-log.service";
import { apiScopes, sigil } from "./msal.config";

/**
 * AppComponent handles the redirect promise (which also tells MsalBroadcastService that MSAL
 * has started), keeps the active account, and shows it with the MSAL events seen so far.
 */
@Component({
  selector: "app-root",
  imports: [RouterOutlet, RouterLink],
  template: `
    <header>
      <h1>msal-angular example</h1>
      <p>
        &#64;azure/msal-angular <span data-testid="msal-angular-version">{{ msalAngularVersion }}</span> with
        &#64;azure/msal-browser <span data-testid="msal-version">{{ msalBrowserVersion }}</span>, signing in
        against Sigil at <code>{{ authority }}</code>. MSAL is <span data-testid="in-progress">{{ inProgress() }}</span>.
      </p>
      <nav>
        <a id="nav-home" routerLink="/">Home</a>
        <a id="nav-profile" routerLink="/profile">Profile (guarded)</a>
      </nav>
    </header>
    <main>
      <section class="buttons">
        @if (account()) {
          <p>Signed in as <strong data-testid="account">{{ account() }}</strong>.</p>
        } @else {
          <p>You are not signed in.</p>
          <button id="sign-in" type="button" (click)="signIn()">Sign in (popup)</button>
        }
      </section>
      @if (signInError()) {
        <p class="err">Sign-in failed: <span data-testid="sign-in-error">{{ signInError() }}</span></p>
      }
      <router-outlet />
      <h2>MSAL events</h2>
      <ol class="events">
        @for (e of log.events(); track e.n) {
          <li data-testid="event" [attr.data-n]="e.n" [attr.data-ms]="e.ms" [attr.data-detail]="e.detail">{{ e.type }}</li>
        }
      </ol>
    </main>
  `,
})
export class AppComponent implements OnInit {
  private readonly msal = inject(MsalService);
  private readonly broadcast = inject(MsalBroadcastService);
  private readonly destroyRef = inject(DestroyRef);
  readonly log = inject(EventLog);
  readonly msalAngularVersion = msalAngularVersion;
  readonly msalBrowserVersion = msalBrowserVersion;
  readonly authority = sigil.authority;
  readonly account = signal("");
  readonly inProgress = signal<string>(InteractionStatus.Startup);
  readonly signInError = signal("");

  ngOnInit(): void {
    this.msal.handleRedirectObservable().subscribe();
    this.broadcast.inProgress$.pipe(takeUntilDestroyed(this.destroyRef)).subscribe((status) => {
      this.inProgress.set(status);
      if (status === InteractionStatus.None) this.checkAndSetActiveAccount();
    });
    this.broadcast.msalSubject$
      .pipe(
        filter((msg: EventMessage) => msg.eventType === EventType.LOGIN_SUCCESS || msg.eventType === EventType.ACQUIRE_TOKEN_SUCCESS),
        takeUntilDestroyed(this.destroyRef),
      )
      .subscribe((msg) => {
        const result = msg.payload as AuthenticationResult;
        if (result.account) this.msal.instance.setActiveAccount(result.account);
        this.checkAndSetActiveAccount();
      });
  }

  signIn(): void {
    this.log.press();
    this.signInError.set("");
    this.msal.loginPopup({ scopes: apiScopes }).subscribe({
      next: (result) => {
        this.msal.instance.setActiveAccount(result.account);
        this.checkAndSetActiveAccount();
      },
      error: (e) => this.signInError.set(e.errorCode || e.message),
    });
  }

  // Account selection is up to the app; this one uses the first (only) account.
  private checkAndSetActiveAccount(): void {
    let active = this.msal.instance.getActiveAccount();
    const accounts = this.msal.instance.getAllAccounts();
    if (!active && accounts.length > 0) {
      active = accounts[0];
      this.msal.instance.setActiveAccount(active);
    }
    this.account.set(active?.username ?? "");
  }
}
