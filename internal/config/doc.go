// Package config owns Sigil's bootstrap file (sigil.yaml): its types, the
// defaults, strict loading, validation, and the overrides that come from the
// environment and flags.
//
// [Load] and [Parse] decode the YAML over [Default] and refuse unknown and
// repeated keys; [Config.Validate] checks and normalizes the values. Either
// way every problem is reported at once in one [*Error], each with the file,
// line and column of the YAML node it is about, or with the override that
// supplied the value.
//
// It leaves out applying the file to the store (creating or updating the
// tenants, users, APIs and apps it names), reading flags and environment
// variables (cmd/sigil does that with kong and passes an [Overrides]), and
// checking that files named here exist.
package config
