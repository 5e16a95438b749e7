// Package contract holds the engine contract suite (package enginetest) run
// against the Python diffusers engine (engines/diffusers) on its tiny
// random-weight Wan profile, served over the engine protocol by a process the
// test starts.
package contract
