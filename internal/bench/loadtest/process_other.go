//go:build !linux

package loadtest

import "os/exec"

func setParentDeathSignal(*exec.Cmd) {}
