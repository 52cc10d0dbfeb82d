# Stockroom's front door; CMake is the build, these targets only wrap it.
#   make run    install what's missing, build, serve on SQLite at 127.0.0.1:8000
#   make test   install what's missing, build, run every test, also under ASan+UBSan
#   make bench  release build, then $(SHARED)/bench/compare.sh, then the
#               PostgreSQL column (scripts/bench-pg.sh: Stockroom and the DRF
#               reference on PostgreSQL, Stockroom on SQLite, in one run), then
#               S1 over http and https (scripts/bench-tls.sh), then the upload
#               chunk and picks per second (scripts/bench-flows.py), then S1
#               alone and beside 1,000 event streams (scripts/bench-streams.py),
#               then what counting for /metrics costs S1 (scripts/bench-metrics.py)
#   make hostile  release build, then a bounded attack benchmark (scripts/hostile.py,
#               at most ~4 minutes): slow headers, idle connections, big bodies,
#               login flood, largest orders, writing GETs, each beside its baseline
#   make bench-scale  release build, then scripts/bench-scale.py: the same reads at
#               a small and a large database (ORDERS, default 1000000; SCALE_DB,
#               default sqlite,postgres; WAL_MINUTES of writes beside reads, default 0)
#   make web    install web/'s npm packages (Swagger UI for /api/docs/, the
#               OpenAPI validator of the tests); every build runs it first
#   make fuzz   build-fuzz/ with clang (libFuzzer, ASan+UBSan), then every
#               tests/fuzz target for FUZZ_SECONDS each (scripts/fuzz.sh)
#   make install  release build, then install it: PREFIX/bin/stockroom, the man
#               page stockroom(1), share/doc/stockroom/, and the systemd unit
#               (/lib/systemd/system for PREFIX=/usr, else PREFIX/lib/systemd/system);
#               PREFIX (/usr/local) and DESTDIR as usual
#   make deb    release build, then a Debian package of it (CPack):
#               build-release/stockroom_VERSION-1_ARCH.deb, for `apt install ./...`
# Variables: JOBS (2), DB and LISTEN for `run`, SHARED (../shared), BENCH_ARGS
# (SECONDS CONNECTIONS for both), CTEST_ARGS (extra ctest arguments),
# HOSTILE_SERVE_ARGS (extra `stockroom serve` flags for `hostile`, from the environment),
# FUZZ_SECONDS (60, per target), PREFIX and DESTDIR for `install`, RELEASE_DIR
# (build-release: where `release`, `install`, `deb` and the benchmarks build).
.NOTPARALLEL:
.PHONY: all deps web build release asan run test bench bench-scale hostile fuzz install deb clean

JOBS   ?= 2
DB     ?= ./stockroom.db
LISTEN ?= 127.0.0.1:8000
SHARED ?= ../shared
ORDERS ?= 1000000
SCALE_DB ?= sqlite,postgres
WAL_MINUTES ?= 0
FUZZ_SECONDS ?= 60
PREFIX ?= /usr/local
DESTDIR ?=
RELEASE_DIR ?= build-release

all: build

deps:
	@bash scripts/deps.sh

# Without npm (or the registry) the build goes on: /api/docs/ then says its
# assets were not built, and the OpenAPI test fails saying what is missing.
web:
	@bash scripts/npm-install.sh web || echo "make: warning: web/ npm packages not installed; /api/docs/ will lack its assets" >&2

build: web
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build build --parallel $(JOBS)

release: web
	cmake -S . -B $(RELEASE_DIR) -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG"
	cmake --build $(RELEASE_DIR) --parallel $(JOBS)

asan: web
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSTOCKROOM_SANITIZE=ON
	cmake --build build-asan --parallel $(JOBS)

run: deps build
	@DB='$(DB)' LISTEN='$(LISTEN)' bash scripts/run.sh

test: deps build asan
	@bash scripts/test.sh

bench: deps release
	bash $(SHARED)/bench/compare.sh $(RELEASE_DIR)/stockroom $(BENCH_ARGS)
	SHARED='$(SHARED)' bash scripts/bench-pg.sh $(RELEASE_DIR)/stockroom $(BENCH_ARGS)
	bash scripts/bench-tls.sh $(RELEASE_DIR)/stockroom $(BENCH_ARGS)
	/usr/bin/python3 scripts/bench-flows.py $(RELEASE_DIR)/stockroom
	/usr/bin/python3 scripts/bench-streams.py $(RELEASE_DIR)/stockroom $(BENCH_ARGS)
	/usr/bin/python3 scripts/bench-metrics.py $(RELEASE_DIR)/stockroom $(BENCH_ARGS)

bench-scale: deps release
	/usr/bin/python3 scripts/bench-scale.py $(RELEASE_DIR)/stockroom --orders $(ORDERS) --db $(SCALE_DB) \
		--wal-minutes $(WAL_MINUTES)

hostile: deps release
	/usr/bin/python3 scripts/hostile.py $(RELEASE_DIR)/stockroom

install: release
	DESTDIR='$(DESTDIR)' cmake --install $(RELEASE_DIR) --prefix '$(PREFIX)'

deb: deps release
	cd $(RELEASE_DIR) && cpack -G DEB
	@ls $(RELEASE_DIR)/stockroom_*.deb

fuzz: deps
	@FUZZ_SECONDS='$(FUZZ_SECONDS)' JOBS='$(JOBS)' bash scripts/fuzz.sh

clean:
	rm -rf build build-release build-asan build-fuzz
