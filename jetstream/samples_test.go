package jetstream_test

import (
	"testing"

	"github.com/fractal-grid/fractal"
	"github.com/fractal-grid/fractal/storetest"
)

func TestSampleLogContract(t *testing.T) {
	for _, d := range deployments {
		t.Run(d.name, func(t *testing.T) {
			storetest.SampleLog(t, func(t *testing.T) fractal.SampleLog { return d.open(t).Queue() })
		})
	}
}

func TestFailureLogContract(t *testing.T) {
	for _, d := range deployments {
		t.Run(d.name, func(t *testing.T) {
			storetest.FailureLog(t, func(t *testing.T) fractal.FailureLog { return d.open(t).Queue() })
		})
	}
}
