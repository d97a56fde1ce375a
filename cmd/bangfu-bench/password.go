package main

import "github.com/bangfu/bangfu/internal/synthetic"

// defaultPassword is the password `bangfu seed synthetic` gives its users.
const defaultPassword = synthetic.Password
