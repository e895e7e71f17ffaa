# shinsei-status — the two commands: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
NODE_DIR := tests/browser

.PHONY: demo test e2e install system-deps lint release lock bench bench-deps bench-intranet bench-import bench-audit bench-mirror bench-balancer bench-search bench-snapshot bench-transfer bench-publication clean

# Everything the tests need from the operating system: PostgreSQL server, OpenSSH's sshd,
# Chromium (and Japanese fonts for its screenshots), npm for axe-core, nginx, HAProxy (the
# balancer in front of the public hosts, started by tests/integration/test_balancer.py) and
# nftables whose checkers test the shipped configuration, testssl.sh (the scanner a city's
# security review runs on the nginx sites), and for the booted-hosts test (tests/e2e)
# debootstrap, systemd-nspawn and certutil (the test CA in Chromium's store).
system-deps:
	@need=(); \
	ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need+=(postgresql); \
	command -v chromium >/dev/null 2>&1 || need+=(chromium); \
	command -v npm >/dev/null 2>&1 || need+=(npm); \
	[ -x /usr/sbin/sshd ] || need+=(openssh-server); \
	[ -x /usr/sbin/nginx ] || need+=(nginx); \
	[ -x /usr/sbin/haproxy ] || need+=(haproxy); \
	[ -x /usr/sbin/nft ] || need+=(nftables); \
	command -v testssl >/dev/null 2>&1 || need+=(testssl.sh); \
	command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap); \
	command -v systemd-nspawn >/dev/null 2>&1 || need+=(systemd-container); \
	command -v certutil >/dev/null 2>&1 || need+=(libnss3-tools); \
	fc-list 2>/dev/null | grep -qi "noto sans cjk" || need+=(fonts-noto-cjk); \
	if [ $${#need[@]} -gt 0 ]; then \
	  echo "installing: $${need[*]}"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$${need[@]}"; \
	fi

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	# pyramid still imports pkg_resources: setuptools 80.9 warns on it, 81 removes it.
	$(BIN)/pip install -q -U pip "setuptools<80.9" wheel

install: $(BIN)/python
	$(BIN)/pip install -q -e ".[intranet,test,postgresql]"
	$(BIN)/python tools/compile_catalogs.py
	cd $(NODE_DIR) && npm ci --silent --no-audit --no-fund

var/session-secret:
	mkdir -p var
	umask 077 && $(PYTHON) -c "import secrets; print(secrets.token_urlsafe(48))" > $@

var/keys/sign.key:
	mkdir -p var/keys && chmod 700 var/keys
	$(BIN)/shinsei-transfer keygen --signing-key var/keys/sign.key --lookup-key var/keys/lookup.key

# Fresh machine -> the whole system on its embedded defaults: intranet with demo data on
# http://127.0.0.1:6543; the demo's approved publication published by the transfer job to the
# public mirror's inbox (outbox transport), received; the residents' page on :6544.
demo: install var/session-secret var/keys/sign.key
	rm -rf var/intranet.sqlite var/intranet.sqlite-* var/mirror
	$(BIN)/shinsei-intranet -c development.ini initdb
	$(BIN)/shinsei-intranet -c development.ini demo --applications 3000 | tee var/demo-credentials.txt
	chmod 600 var/demo-credentials.txt
	mkdir -p var/mirror/inbox
	$(BIN)/shinsei-transfer publish -c development.ini
	$(BIN)/shinsei-mirror -c mirror-development.ini receive
	@echo
	@echo "intranet (staff):      http://127.0.0.1:6543  (passwords above, also in var/demo-credentials.txt)"
	@echo "residents' page:       http://127.0.0.1:6544  (try receipt number 1000-0001)"
	@echo
	$(BIN)/pserve mirror-development.ini & mirror=$$!; \
	  trap 'kill $$mirror' EXIT INT TERM; \
	  $(BIN)/pserve development.ini

# The release bundle for closed networks: dist/shinsei-status-<version>-offline.tar.gz (project
# wheel with compiled catalogues, the locked wheelhouse, installer, deploy/, docs/, SBOM,
# SHA256SUMS). Building needs the package index; installing the bundle needs nothing.
release: install
	$(BIN)/python tools/build_release.py

# Re-resolve the lock files (requirements/*.lock.txt, with hashes) after a dependency change.
lock: install
	$(BIN)/python tools/lock.py

# Installs everything, builds the release bundle (the install tests and the booted-hosts
# test install it), starts the real servers the tests need, runs the whole suite.
test: system-deps install release
	$(BIN)/ruff check .
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest -n 2 --dist loadfile

# The booted-hosts test alone (tests/e2e: Debian hosts under systemd-nspawn, the bundle
# installed on them; needs root). `make test` runs it too.
e2e: system-deps install release
	$(BIN)/python -m pytest tests/e2e -v

lint:
	$(BIN)/ruff check .
	$(BIN)/python -m mypy

# Benchmarks. Each installs what it needs, makes its own data under build/bench/ from the code
# as it is (a cache is named after a hash of the code it was made from: one made by other code
# is never reused), and ends with one line per target: figure, baseline in the same run, ratio,
# target, met or not. BENCH_SCALE=small runs each at a size that takes a minute or two (proves
# it runs; not the targets' sizes). `make bench` runs them all, then prints the table
# docs/performance.md opens with (bench/table.py). Several need root (the test sshd chroots).
BENCH_SCALE ?= full
export BENCH_SCALE
BENCHES := bench-snapshot bench-mirror bench-balancer bench-transfer bench-publication bench-import bench-search bench-intranet bench-audit

# What the benchmarks need from the operating system: PostgreSQL, OpenSSH's sshd and sftp
# client, wrk (the residents' page's load generator), nginx and HAProxy (the public hosts'
# site and the balancer, as shipped), from Debian's packages as
# system-deps installs the tests' (as root, from the distribution's mirror).
bench-deps:
	@need=(); \
	ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need+=(postgresql); \
	[ -x /usr/sbin/sshd ] || need+=(openssh-server); \
	command -v sftp >/dev/null 2>&1 || need+=(openssh-client); \
	command -v wrk >/dev/null 2>&1 || need+=(wrk); \
	[ -x /usr/sbin/nginx ] || need+=(nginx); \
	[ -x /usr/sbin/haproxy ] || need+=(haproxy); \
	if [ $${#need[@]} -gt 0 ]; then \
	  echo "installing: $${need[*]}"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$${need[@]}"; \
	fi

# Every benchmark, then the table. A failing one does not stop the others; the table names
# it, and the run fails at the end.
bench: bench-deps install
	@rm -rf build/bench/results; failed=(); \
	for target in $(BENCHES); do $(MAKE) --no-print-directory $$target || failed+=($$target); done; \
	echo; $(BIN)/python bench/table.py; \
	if [ $${#failed[@]} -gt 0 ]; then echo "failed: $${failed[*]}"; exit 1; fi

# Every daily page at 1M applications and 10M audit records (the same cached database).
bench-intranet: bench-deps install
	$(BIN)/python bench/intranet_bench.py

# 1,000,000 CP932 rows into PostgreSQL and SQLite, beside COPY into a bare table.
bench-import: bench-deps install
	$(BIN)/python bench/import_bench.py --no-export

# Full `audit verify` of 10M records (split across cores) and the screens' check from the
# last signed checkpoint; the city's database is made once per code under build/bench/cache.
bench-audit: bench-deps install
	$(BIN)/python bench/audit_bench.py

# Residents' page: the shipped server against the bare WSGI floor, 1-64 connections (wrk).
bench-mirror: bench-deps install
	$(BIN)/python bench/mirror_bench.py

# Residents through the shipped HAProxy balancer to one, two and three public hosts (each
# shinsei-mirror serve behind its nginx site), against one host alone, in the same run.
bench-balancer: bench-deps install
	$(BIN)/python bench/balancer_bench.py

# Name, kana and phone search at 1,000,000 applications (PostgreSQL; about ten minutes).
bench-search: bench-deps install
	$(BIN)/python bench/search_bench.py

bench-snapshot: install
	$(BIN)/python bench/snapshot_bench.py

# Needs root (the test sshd chroots) and OpenSSH's sftp client.
bench-transfer: bench-deps install
	$(BIN)/python bench/transfer_bench.py

# Approval → visible at 1,000,000 applications (PostgreSQL, sshd, the public host's receiver). Root.
bench-publication: bench-deps install
	$(BIN)/python bench/publication_bench.py

clean:
	rm -rf $(VENV) var .pytest_cache $(NODE_DIR)/node_modules build/bench
