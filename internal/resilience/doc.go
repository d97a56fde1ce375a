// Package resilience holds no code: its tests run the real `bangfu`
// binary, built from this tree, as separate processes and break what they
// depend on — kill -9 of a server under concurrent writes, a database that
// goes away and comes back under load, kill -9 of a worker mid-job — then
// check that no acknowledged write or job was lost or done twice. They are
// slower than the rest of the suite and live apart so that `go test ./...`
// runs them in parallel with the other packages (docs/operations.md, "What
// we test and what it showed").
package resilience
