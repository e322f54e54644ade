package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestMarshalLeavesOutDefaults writes a configuration with settings away from the defaults and reads
// it back: the same configuration, with nothing written that equals a default.
func TestMarshalLeavesOutDefaults(t *testing.T) {
	c, err := Parse("in.yaml", []byte(`publicUrl: https://login.example.test:8443
refreshTokens: {reuseInterval: 0s}
tls: {auto: true}
tenants:
  - id: 6a0b2c9e-7e4d-4c1e-9a53-0d6f2b8e4f10
    domains: [contoso.test]
    users:
      - {username: alice@contoso.test, password: "false", displayName: Alice}
    apis:
      - {displayName: Todo, appIdUri: "api://todo", scopes: [{value: Todo.Read}]}
    apps:
      - displayName: A
        clientId: 3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f
        spa: {redirectUris: ["https://a.test/"]}
`), Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := Marshal(c, "a header\nof two lines")
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	if !strings.HasPrefix(text, "# a header\n# of two lines\n") {
		t.Errorf("header missing:\n%s", text)
	}
	for _, absent := range []string{"listen:", "storage:", "idleLifetime:", "accessToken:", "groupsOverageLimit:"} {
		if strings.Contains(text, absent) {
			t.Errorf("%s written though it is the default:\n%s", absent, text)
		}
	}
	for _, present := range []string{"reuseInterval: 0s", `password: "false"`, "auto: true"} {
		if !strings.Contains(text, present) {
			t.Errorf("%s missing:\n%s", present, text)
		}
	}
	back, err := Parse("out.yaml", out, Overrides{})
	if err != nil {
		t.Fatalf("reading back:\n%s\n%v", text, err)
	}
	if !reflect.DeepEqual(back, c) {
		t.Errorf("round trip changed the configuration:\n got %+v\nwant %+v", back, c)
	}
	if time.Duration(back.RefreshTokens.ReuseInterval) != 0 {
		t.Errorf("reuseInterval %v, want 0", back.RefreshTokens.ReuseInterval)
	}
}

// TestMarshalDesignExample reads DESIGN's example file back from Marshal unchanged.
func TestMarshalDesignExample(t *testing.T) {
	c, err := Load("testdata/design-example.yaml", Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := Marshal(c, "")
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse("out.yaml", out, Overrides{})
	if err != nil {
		t.Fatalf("reading back:\n%s\n%v", out, err)
	}
	if !reflect.DeepEqual(back, c) {
		t.Errorf("round trip changed the configuration:\n%s\n got %+v\nwant %+v", out, back, c)
	}
}

// TestParseSampleRatio: a number between 0 and 1; anything else is a problem at its line.
func TestParseSampleRatio(t *testing.T) {
	c, err := Parse("sigil.yaml", []byte(minimal+"tracing: {otlpEndpoint: \"http://127.0.0.1:4318/v1/traces\", sampleRatio: 0.25}\n"), Overrides{})
	if err != nil || c.Tracing.SampleRatio != 0.25 {
		t.Fatalf("0.25: %v, %v", c.Tracing, err)
	}
	for _, bad := range []string{"2", "high", "-0.5"} {
		if _, err := Parse("sigil.yaml", []byte(minimal+"tracing: {sampleRatio: "+bad+"}\n"), Overrides{}); err == nil ||
			!strings.Contains(err.Error(), "sampleRatio") {
			t.Errorf("sampleRatio %s: %v", bad, err)
		}
	}
}
