# The two commands a newcomer types (see README.md):
#   make demo   set everything up, then the whole pipeline on the small profile (tiny offline
#               model, generated data, CPU): train, evaluate, tables, HTML report
#   make test   set everything up, then the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# One venv holds the core, every simulator extra and the benchmarks (their pins agree); see
# pyproject.toml.
EXTRAS ?= gymcards,miniworld,alfworld,webshop,balrog,lmms,workflow,dev
LMMS_EVAL_VERSION ?= 0.7.3
# Debian packages the simulators need: EGL/Xvfb for MiniWorld, a compiler for ALFWorld's
# jericho and fast-downward, Chromium for WebShop; podman and debootstrap build the
# simulator images from a locally made Debian base (the container tests).
DEBIAN_PACKAGES ?= libegl1 libegl-mesa0 libgl1-mesa-dri libglu1-mesa xvfb build-essential \
                   chromium libatomic1 fonts-dejavu-core podman buildah runc debootstrap

.PHONY: setup system-deps demo test lint

# Installs what is missing when run as root on Debian/Ubuntu (CI, containers); otherwise
# says what to install, and the tests of the worlds that need it are skipped with a reason.
system-deps:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing system packages:" $$missing; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else \
	  echo "note: missing system packages:" $$missing "(sudo apt-get install them; their worlds' tests are skipped meanwhile)"; \
	fi

$(BIN)/vldac: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first and pinned, so no other package can pull a different (CUDA) build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet --build-constraint containers/pip-build-constraints.txt -e ".[$(EXTRAS)]"
	# lmms-eval without its declared dependencies (they would replace the CPU torch); the
	# lmms extra holds what it really needs.
	case ",$(EXTRAS)," in *,lmms,*) $(BIN)/pip install --quiet --no-deps lmms-eval==$(LMMS_EVAL_VERSION) ;; esac
	touch $(BIN)/vldac

setup: system-deps $(BIN)/vldac

# The venv's bin first on PATH: the DAG's jobs call `vldac` and `python`.
demo: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/snakemake --profile profiles/small

test: setup
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check src tests
