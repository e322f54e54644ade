import { Component, inject } from "@angular/core";
import { MsalService } from "@azure/msal-angular";

/** ProfileComponent is the route MsalGuard protects: it renders only for a signed-in user. */
@Component({
  selector: "app-profile",
  template: `
    <h2>Profile (guarded by MsalGuard)</h2>
    <p data-testid="profile">Signed in as <strong data-testid="profile-account">{{ username }}</strong>.</p>
  `,
})
export class ProfileComponent {
  private readonly msal = inject(MsalService);
  readonly username = (this.msal.instance.getActiveAccount() ?? this.msal.instance.getAllAccounts()[0])?.username ?? "";
}
