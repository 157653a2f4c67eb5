# Usher — the two commands a newcomer needs, plus benchmarks.
#   make run    build and run the server on SQLite (./data) with the development defaults
#   make test   install what the tests need, start PostgreSQL and SMTP servers, run every test
#   make bench  run the benchmarks (release build)

.PHONY: run test bench build deps clean

run:
	./scripts/run.sh

test:
	./scripts/test.sh

bench:
	./scripts/bench.sh

build: deps
	swift build

deps:
	./scripts/install-deps.sh build

clean:
	rm -rf .build .venv data
