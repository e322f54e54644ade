// Package password hashes and verifies user passwords.
//
// It owns the stored form of a password: argon2id (RFC 9106) in the PHC
// string format, for example
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
//
// and the verification of bcrypt hashes ($2a$, $2b$, $2y$) imported from
// other systems. [NeedsRehash] tells the caller when a stored hash should be
// replaced by a fresh argon2id hash after a successful sign-in.
//
// It leaves out everything around the hash: password policy (length,
// breached-password lists), throttling of sign-in attempts, limiting how many
// hashes run at once (each costs Params.Memory KiB), and storage.
package password
