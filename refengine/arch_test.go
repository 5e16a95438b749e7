package refengine

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/cpu"

	"github.com/fractal-grid/fractal/internal/testenv"
)

// fusedOps matches fused multiply-add instructions in `go tool objdump`
// output: arm64 scalar forms and amd64 FMA3 forms.
var fusedOps = regexp.MustCompile(`\b(F(N)?M(ADD|SUB)[SD]|VFN?M(ADD|SUB)\w*)\b`)

// TestCrossArch builds this package's tests for arm64 and for amd64 with
// GOAMD64=v3 (both allow fused multiply-add), checks that the compiler fused
// no float expression of the model (test code may fuse), and runs the golden test there: arm64
// under qemu-aarch64, v3 natively when the CPU has it, otherwise under
// qemu-x86_64.
func TestCrossArch(t *testing.T) {
	goTool := testenv.Tool(t, "go")
	dir := t.TempDir()
	targets := []struct {
		name string
		env  []string
		run  func(t *testing.T, bin string) *exec.Cmd
	}{
		{"arm64", []string{"GOARCH=arm64"}, func(t *testing.T, bin string) *exec.Cmd {
			return exec.Command(testenv.Tool(t, "qemu-aarch64"), bin)
		}},
		{"amd64-v3", []string{"GOARCH=amd64", "GOAMD64=v3"}, func(t *testing.T, bin string) *exec.Cmd {
			if runtime.GOARCH == "amd64" && cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasBMI2 {
				return exec.Command(bin)
			}
			return exec.Command(testenv.Tool(t, "qemu-x86_64"), bin)
		}},
	}
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			bin := filepath.Join(dir, "refengine."+tg.name)
			build := exec.Command(goTool, "test", "-c", "-o", bin, ".")
			build.Env = append(os.Environ(), append([]string{"CGO_ENABLED=0", "GOFLAGS="}, tg.env...)...)
			if out, err := build.CombinedOutput(); err != nil {
				t.Fatalf("go test -c %v: %v\n%s", tg.env, err, out)
			}
			dump, err := exec.Command(goTool, "tool", "objdump", "-s", `refengine\.`, bin).CombinedOutput()
			if err != nil {
				t.Fatalf("objdump: %v\n%s", err, dump)
			}
			var fused []string
			for _, line := range strings.Split(string(dump), "\n") {
				if fusedOps.MatchString(line) && !strings.Contains(line, "_test.go:") {
					fused = append(fused, strings.Join(strings.Fields(line), " "))
				}
			}
			if len(fused) > 0 {
				t.Errorf("the compiler fused %d multiply-adds (round the product with an explicit float32 conversion):\n%s", len(fused), strings.Join(fused, "\n"))
			}
			cmd := tg.run(t, bin)
			cmd.Args = append(cmd.Args, "-test.run", "^TestGolden$", "-test.count", "1", "-test.v")
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "--- PASS: TestGolden") {
				t.Fatalf("golden test on %s: %v\n%s", tg.name, err, out)
			}
		})
	}
}
