//go:build !race

package gateway_test

// raceFactor scales memory bounds for the race detector's shadow memory.
const raceFactor = 1
