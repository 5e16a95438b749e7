// Package security holds black-box security tests of the grid's public
// surfaces, run against real servers on loopback: slow clients against the
// gateway and the miner, axons on private networks, and brute-forced API
// keys. Signature, replay, permit and stake checks are tested where they
// live (miner and epistula); docs/reliability.md lists them all.
package security
