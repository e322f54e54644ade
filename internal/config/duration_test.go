package config

import (
	"encoding/json"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"0", 0},
		{"0s", 0},
		{"30s", 30 * time.Second},
		{"15m", 15 * time.Minute},
		{"1h30m", 90 * time.Minute},
		{"24h", 24 * time.Hour},
		{"90d", 90 * 24 * time.Hour},
		{"1d12h", 36 * time.Hour},
		{"0.5d", 12 * time.Hour},
		{"1d1d", 48 * time.Hour},
		{"-5m", -5 * time.Minute},
		{"+5m", 5 * time.Minute},
		{"1.5s", 1500 * time.Millisecond},
		{"100ms", 100 * time.Millisecond},
		{"2µs", 2 * time.Microsecond},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			if err != nil || time.Duration(got) != tt.want {
				t.Errorf("ParseDuration(%q) = %v, %v; want %v, nil", tt.in, time.Duration(got), err, tt.want)
			}
		})
	}
}

func TestParseDurationErrors(t *testing.T) {
	for _, in := range []string{"", "-", "d", "5", "1d5", "5x", "1 d", "d1", "1.2.3d", "--5m", "999999999999d", "106752d", "9223372036854775807ns1ns", " 5m"} {
		t.Run(in, func(t *testing.T) {
			got, err := ParseDuration(in)
			if err == nil {
				t.Errorf("ParseDuration(%q) = %v, nil; want an error", in, time.Duration(got))
			}
		})
	}
}

func TestDurationString(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "0s"},
		{30 * time.Second, "30s"},
		{10 * time.Minute, "10m"},
		{time.Hour, "1h"},
		{90 * time.Minute, "1h30m"},
		{24 * time.Hour, "1d"},
		{36 * time.Hour, "1d12h"},
		{90 * 24 * time.Hour, "90d"},
		{24*time.Hour + time.Second, "1d1s"},
		{-15 * time.Minute, "-15m"},
		{1500 * time.Millisecond, "1.5s"},
		{-1 << 63, (-1 << 63 * time.Nanosecond).String()},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			d := Duration(tt.in)
			if got := d.String(); got != tt.want {
				t.Errorf("Duration(%v).String() = %q, want %q", tt.in, got, tt.want)
			}
			back, err := ParseDuration(d.String())
			if err != nil || back != d {
				t.Errorf("ParseDuration(%q) = %v, %v; want %v", d.String(), time.Duration(back), err, tt.in)
			}
		})
	}
}

func TestDurationJSON(t *testing.T) {
	b, err := json.Marshal(struct{ D Duration }{Duration(36 * time.Hour)})
	if err != nil || string(b) != `{"D":"1d12h"}` {
		t.Errorf("json.Marshal = %s, %v; want {\"D\":\"1d12h\"}", b, err)
	}
	var v struct{ D Duration }
	if err := json.Unmarshal([]byte(`{"D":"90d"}`), &v); err != nil || v.D != Duration(90*day) {
		t.Errorf("json.Unmarshal 90d = %v, %v; want 90d", v.D, err)
	}
}
