// Command largestore measures Sigil's store as data grows (issue 9): it seeds a store with
// many users and refresh-token families, times DeleteExpired on it, and drives refresh
// rotations straight through the store to measure how the database grows with pruning and
// without. Nothing here runs in `go test`; every run is bounded by its flags.
//
//	largestore seed   -storage sqlite:/tmp/big/sigil.db -users 100000 -families 1000000
//	largestore prune  -storage sqlite:/tmp/big/sigil.db -after 10m -n 3
//	largestore rotate -storage sqlite:/dev/shm/grow.db -families 20000 -rotations 1000000 -prune=true
//	largestore bench  -storage sqlite:/tmp/big/sigil.db -c 8 -d 5s
//	largestore size   -storage sqlite:/tmp/big/sigil.db
//
// storage is "sqlite:PATH" or a postgres:// URL; the store's migrations run first, as
// `sigil serve` runs them. The seeded rows are background data in the tenant and apps of
// bench/load/sigil.yaml: a load run against the same database signs its own users in and
// refreshes the chains the server issues them. See bench/large-store.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: largestore seed|prune|rotate|bench|size [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	storage := fs.String("storage", "sqlite:sigil-large/sigil.db", `"sqlite:PATH" or a postgres:// URL`)
	users := fs.Int("users", 100_000, "seed: users (each with one browser session)")
	families := fs.Int("families", 1_000_000, "seed: refresh-token families; rotate: families to refresh")
	after := fs.Duration("after", pruneEvery, "prune: DeleteExpired at now+after (the seeding's now for a seeded store)")
	at := fs.Int64("now", 0, "seed: the seeding's now in unix ms (0: the clock); prune: the seeding's now")
	n := fs.Int("n", 3, "prune: how many runs, each at a later now by -after")
	rotations := fs.Int("rotations", 1_000_000, "rotate: rotations in all")
	workers := fs.Int("c", 8, "rotate, bench: concurrent workers")
	rate := fs.Float64("rate", 400, "rotate: simulated refreshes per second (sets how many fall between two DeleteExpired runs)")
	prune := fs.Bool("prune", true, "rotate: run DeleteExpired every 10 simulated minutes")
	dur := fs.Duration("d", 5*time.Second, "bench: how long")
	limit := fs.Duration("timeout", 30*time.Minute, "stop after this long")
	fs.Parse(os.Args[2:])
	ctx, cancel := context.WithTimeout(context.Background(), *limit)
	defer cancel()
	now := time.Now()
	if *at != 0 {
		now = time.UnixMilli(*at)
	}
	var err error
	switch os.Args[1] {
	case "seed":
		err = seed(ctx, *storage, &seeder{now: now, users: *users, families: *families})
	case "prune":
		err = timePrune(ctx, *storage, now, *after, *n)
	case "rotate":
		err = rotate(ctx, *storage, rotateOptions{families: *families, rotations: *rotations, workers: *workers, rate: *rate, prune: *prune})
	case "bench":
		err = storeBench(ctx, *storage, *workers, *dur)
	case "size":
		err = printSize(ctx, *storage, "")
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "largestore:", err)
		os.Exit(1)
	}
}
