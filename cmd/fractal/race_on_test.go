//go:build race

package main

// raceBuild is true when the tests run with -race: binaries the tests
// build use it too, so they reuse the packages already compiled for it.
const raceBuild = true
