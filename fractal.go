// Package fractal holds the domain of the Fractal text-to-video inference grid:
// the nouns (Spec, Profile, Frames, State, Receipt, Neuron, …), their validation,
// the sentinel errors and the few small interfaces that the technology packages
// implement. It performs no I/O.
package fractal

// Version is the version of the fractal binary and its wire protocols.
var Version = "0.1.0"
