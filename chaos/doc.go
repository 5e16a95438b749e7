// Package chaos holds the grid's fault-injection tests: a three-node NATS
// JetStream cluster, miners and gateway replicas run as separate processes
// (the test binary started again in a role) so that they can be killed with
// SIGKILL mid-work, and a validator shares the cluster with them. The tests
// check that no accepted job is lost and that users see exactly one result.
// docs/reliability.md lists every fault and the figures measured.
package chaos
