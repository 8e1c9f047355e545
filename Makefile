# Sluice entry points (run as root on Debian 12; each target installs what it lacks):
#   make build                  compile and package every module (unit tests run; they are fast), then make the
#                               class-data sharing archive ./sluice starts with (deploy/cds.sh)
#   make demo                   run Sluice on the example pods until Ctrl-C (DEMO_ONESHOT=1: print once and exit)
#   make test                   unit and integration tests (integration tests drive a real Open vSwitch)
#   make bench                  run the benchmark and print its figures
#   make clean
SHELL := /bin/bash
.DEFAULT_GOAL := build
MVN ?= mvn
DEMO_ONESHOT ?=
export DEMO_ONESHOT

.PHONY: install-deps ovs-start build demo test bench clean

install-deps:
	deploy/install-deps.sh

ovs-start: install-deps
	deploy/ovs-start.sh

build: install-deps
	$(MVN) -B -q package dependency:build-classpath -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test
	deploy/cds.sh || echo "make build: no class-data sharing archive; ./sluice starts without one (slower)" >&2

demo: install-deps build ovs-start
	deploy/demo/demo.sh

test: install-deps ovs-start
	$(MVN) -B verify

bench: install-deps ovs-start build
	deploy/bench.sh

clean:
	$(MVN) -B -q clean
