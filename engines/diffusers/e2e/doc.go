// Package e2e runs a whole local grid on the Python diffusers engine's tiny
// random-weight Wan profile: users' jobs through the API, the validator's
// challenges, and two cheating miners (one that skips every other step, one
// that runs the same architecture with other weights while claiming the
// profile). Its benchmark measures the Go miner in front of the engine
// against calling the engine directly. The engine runs from the virtual
// environment scripts/python-env makes; a missing one fails the tests.
package e2e
