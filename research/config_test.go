package research

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestConfigDefaultsLeaveExplicitZeros: nil takes the default, an explicit
// 0 means none (or never) and stays so, and WithDefaults may run twice.
func TestConfigDefaultsLeaveExplicitZeros(t *testing.T) {
	t.Parallel()
	unset := Config{}.WithDefaults("/repo")
	if !reflect.DeepEqual(unset, unset.WithDefaults("/repo")) {
		t.Error("WithDefaults is not idempotent")
	}
	want := judgePolicy{ConfirmSigma: 2, FixAttempts: 2, ImplausibleSigma: 25, ImplausibleGain: 0.02, PlausibleMin: 0.1, PlausibleMax: 20}
	if p := unset.judgePolicy(); p != want || unset.baselineRepeats() != 2 || unset.plateauAfter() != 15 {
		t.Errorf("defaults: %+v, %d baseline repeats, plateau after %d", p, unset.baselineRepeats(), unset.plateauAfter())
	}
	if p := (Config{}).judgePolicy(); p != want {
		t.Errorf("a Config WithDefaults never saw reads the defaults too: %+v", p)
	}
	zero := Config{FixAttempts: new(0), BaselineRepeats: new(0), PlateauAfter: new(0), ConfirmSigma: new(0.0),
		ImplausibleSigma: new(0.0), ImplausibleGain: new(0.0)}.WithDefaults("/repo").WithDefaults("/repo")
	want = judgePolicy{PlausibleMin: 0.1, PlausibleMax: 20}
	if p := zero.judgePolicy(); p != want || zero.baselineRepeats() != 0 || zero.plateauAfter() != 0 {
		t.Errorf("explicit zeros: %+v, %d baseline repeats, plateau after %d", p, zero.baselineRepeats(), zero.plateauAfter())
	}
}

// The checks parse with the project's own interpreter when the repo has a
// .venv (what `uv run` trains with), else with python3; a choice stays.
func TestDefaultPythonIsTheProjectsVenv(t *testing.T) {
	dir := t.TempDir()
	if got := (Config{}).WithDefaults(dir).Python; got != "python3" {
		t.Errorf("without a .venv: %q, want python3", got)
	}
	venv := filepath.Join(dir, ".venv", "bin", "python")
	if err := os.MkdirAll(filepath.Dir(venv), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(venv, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := (Config{}).WithDefaults(dir).Python; got != "python3" {
		t.Errorf("with a .venv/bin/python that is not executable: %q, want python3", got)
	}
	if err := os.Chmod(venv, 0o755); err != nil {
		t.Fatal(err)
	}
	if got := (Config{}).WithDefaults(dir).Python; got != venv {
		t.Errorf("with a .venv: %q, want %s", got, venv)
	}
	for _, chosen := range []string{"none", "/usr/bin/python3"} {
		if got := (Config{Python: chosen}).WithDefaults(dir).Python; got != chosen {
			t.Errorf("--python %s became %q", chosen, got)
		}
	}
}
