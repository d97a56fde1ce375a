package main

import "github.com/bangfu/bangfu/internal/bench/synthetic"

// defaultPassword is the password `bangfu-bench seed` gives its users.
const defaultPassword = synthetic.Password
