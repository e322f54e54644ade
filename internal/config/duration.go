package config

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// day is the unit "d" of a [Duration].
const day = 24 * time.Hour

// Duration is a [time.Duration] written as Go writes durations ("30s",
// "1h30m") with one more unit, "d" for 24 hours ("90d", "1d12h"). It
// marshals back to that form as text, so YAML and JSON round-trip.
type Duration time.Duration

// ParseDuration parses s as [time.ParseDuration] does, also accepting the
// unit "d" (24h) in any component: "90d", "1d12h", "0.5d".
func ParseDuration(s string) (Duration, error) {
	bad := fmt.Errorf("%q is not a duration; want a number and unit such as 30s, 15m, 24h or 90d", s)
	if !strings.Contains(s, "d") {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, bad
		}
		return Duration(d), nil
	}
	rest := s
	neg := strings.HasPrefix(rest, "-")
	if neg || strings.HasPrefix(rest, "+") {
		rest = rest[1:]
	}
	var total time.Duration
	for rest != "" {
		num := strings.IndexFunc(rest, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
		if num <= 0 {
			return 0, bad // no number, or a number without a unit
		}
		unit := num + strings.IndexAny(rest[num:]+"0", "0123456789.")
		part, err := component(rest[:num], rest[num:unit])
		if err != nil || total > math.MaxInt64-part {
			return 0, bad
		}
		total += part
		rest = rest[unit:]
	}
	if neg {
		total = -total
	}
	return Duration(total), nil
}

// component converts one number and unit, such as "1.5" and "d".
func component(num, unit string) (time.Duration, error) {
	if unit != "d" {
		return time.ParseDuration(num + unit)
	}
	h, err := time.ParseDuration(num + "h")
	if err != nil || h > math.MaxInt64/24 {
		return 0, errors.New("out of range")
	}
	return h * 24, nil
}

// String formats d with the largest units first and zero units left out:
// "90d", "1d12h", "15m", "30s", "0s". Durations with a fraction of a second
// use [time.Duration.String].
func (d Duration) String() string {
	td := time.Duration(d)
	switch {
	case td == 0:
		return "0s"
	case td == math.MinInt64 || td%time.Second != 0:
		return td.String()
	case td < 0:
		return "-" + Duration(-td).String()
	}
	var b strings.Builder
	for _, u := range []struct {
		size time.Duration
		name string
	}{{day, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if td >= u.size {
			fmt.Fprintf(&b, "%d%s", td/u.size, u.name)
			td %= u.size
		}
	}
	return b.String()
}

// MarshalText returns [Duration.String].
func (d Duration) MarshalText() ([]byte, error) {
	return []byte(d.String()), nil
}

// UnmarshalText parses text with [ParseDuration].
func (d *Duration) UnmarshalText(text []byte) error {
	v, err := ParseDuration(string(text))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
