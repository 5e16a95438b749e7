// Package sdktest checks that the official OpenAI SDKs (the npm package
// openai and the Python package openai, both pinned by scripts/test) drive
// a whole local grid's video API unchanged: every verb as each SDK sends it,
// the content they download, list pagination, remix, delete and errors.
//
// The package has no code of its own; its tests start a grid with
// localgrid, run testdata/sdk.mjs with node and testdata/sdk.py with
// Python against it, and check the JSON report each prints and the store
// behind the gateway.
package sdktest
