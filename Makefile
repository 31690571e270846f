# pg_sampleid: PostgreSQL extension (PGXS) plus a plain C library (src/lib, cuda/)
# that the extension, the `sampleid` command-line tool and the unit tests all link.
#
#   make                 extension, library, CLI, unit tests
#   make install         into pg_config's directories (DESTDIR honoured)
#   scripts/test.sh      every test (see README)

EXTENSION   = sampleid
EXTVERSION  = 0.2
MODULE_big  = sampleid
# Released versions' scripts stay installable (sql/released/ is frozen), and
# the upgrade script from the release is built from the hand-written changes
# to released objects (sql/update/) followed by the parts of the extension
# script that are wholly new since then, so those are written once.
RELEASED    = 0.1
EXT_SQL_NEW = sql/ext/50_catalogue.sql sql/ext/60_identify.sql sql/ext/70_ingest.sql sql/ext/80_match.sql
UPGRADE_SQL = sampleid--$(RELEASED)--$(EXTVERSION).sql
DATA_built  = sampleid--$(EXTVERSION).sql $(UPGRADE_SQL)
DATA        = $(wildcard sql/released/sampleid--*.sql)

# Extension sources (src/pg, src/ivfpq) talk to PostgreSQL; library sources
# (src/lib/<layer>/) never include its headers.  docs/architecture.md gives
# the layers and which may include which; scripts/check_layers.sh enforces it.
EXT_DIRS     = src/pg src/ivfpq
EXT_C_SRCS   = $(sort $(foreach d,$(EXT_DIRS),$(wildcard $(d)/*.c)))
EXT_CXX_SRCS = $(sort $(foreach d,$(EXT_DIRS),$(wildcard $(d)/*.cpp)))
LIB_SRCS     = $(sort $(wildcard src/lib/*/*.c))
LIB_HDRS     = $(wildcard src/lib/*/*.h)
CLI_SRCS     = $(sort $(wildcard src/cli/*.c))
CUDA_SRCS    = $(sort $(wildcard cuda/*.cu))
UNIT_SRCS    = $(sort $(wildcard test/unit/test_*.c))
UNIT_CXX_SRCS = $(sort $(wildcard test/unit/test_*.cpp))
BENCH_SRCS   = $(sort $(wildcard test/bench/bench_*.c))
FUZZ_SRCS    = $(sort $(wildcard test/fuzz/fuzz_*.c))
EXT_SQL_PARTS = $(sort $(wildcard sql/ext/*.sql))

OBJS = $(EXT_C_SRCS:.c=.o) $(EXT_CXX_SRCS:.cpp=.o)

# Regression inputs are every sql/*.sql (the extension script lives in sql/ext/).
REGRESS      = $(sort $(basename $(notdir $(wildcard sql/*.sql))))
REGRESS_OPTS = --inputdir=. --load-extension=$(EXTENSION)

BUILD    = build
LIB_A    = $(BUILD)/libsampleid.a
LIB_OBJS = $(patsubst src/lib/%.c,$(BUILD)/lib/%.o,$(LIB_SRCS))
CLI_BIN  = $(BUILD)/sampleid
UNIT_BINS  = $(patsubst test/unit/%.c,$(BUILD)/test/%,$(UNIT_SRCS)) \
	$(patsubst test/unit/%.cpp,$(BUILD)/test/%,$(UNIT_CXX_SRCS))
BENCH_BINS = $(patsubst test/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))
FUZZ_BINS  = $(patsubst test/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))

# CUDA: compiled whenever nvcc is found (NVCC= builds without), into the module
# sampleid_cuda.so, the only thing linking cuBLAS and the CUDA runtime; the
# library dlopens it the first time a device resolves to cuda
# (src/lib/nn/sid_cuda_module.h), so CPU servers neither load nor need CUDA.
NVCC ?= $(firstword $(shell command -v nvcc 2>/dev/null) $(wildcard /usr/local/cuda/bin/nvcc))
ifneq ($(NVCC),)
CUDA_HOME  ?= $(patsubst %/bin/nvcc,%,$(NVCC))
CUDA_OBJS   = $(patsubst cuda/%.cu,$(BUILD)/cuda/%.o,$(CUDA_SRCS))
CUDA_DEFS   = -DSAMPLEID_HAVE_CUDA=1
CUDA_LIBS   = -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 -lcublas -lcudart
CUDA_MODULE = $(BUILD)/sampleid_cuda.so
NVCCFLAGS  ?= -O3 -std=c++17 -Xcompiler -fPIC,-Wall,-Wextra,-Werror -Isrc/lib -Icuda $(foreach a,75 80 86 89 90,-gencode arch=compute_$(a),code=sm_$(a)) -gencode arch=compute_90,code=compute_90
endif

# Warnings are errors everywhere.  Extension code keeps PostgreSQL's own flags
# and adds -Wextra; callback signatures fixed by PostgreSQL (index AM, fmgr)
# often leave parameters unused, hence -Wno-unused-parameter there only.
WARN      = -Wall -Wextra -Werror
LIB_CFLAGS ?= -std=c11 -O3 -g -fPIC -D_GNU_SOURCE $(WARN) -Isrc/lib $(CUDA_DEFS)
LIB_LIBS  = -lsndfile -lsoxr -lrubberband -lfftw3f -lopenblas -lcrypto -lm -lpthread
FAISS_LIBS = -lfaiss -lgomp -llapack
EXTRA_LIBS = $(FAISS_LIBS) -lstdc++

# -MMD: each extension object records the headers it read (src/*/x.d), so an
# edited header rebuilds what includes it (PGXS tracks none without autodepend)
PG_CPPFLAGS = -Isrc -Isrc/lib $(CUDA_DEFS) -MMD -MP
PG_CFLAGS   = -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers
PG_CXXFLAGS = -std=c++17 -Wall -Wextra -Werror -Wno-unused-parameter -fPIC
# The extension links Debian's single-threaded OpenBLAS when it is installed:
# the pthread build starts worker threads in every backend as sampleid.so
# loads, where PostgreSQL's signal handlers could run, and a backend uses one
# core anyway.  The CLI and the trainer keep the threaded one.
OPENBLAS_SERIAL = /usr/lib/$(shell $(CC) -print-multiarch)/openblas-serial
ifneq ($(wildcard $(OPENBLAS_SERIAL)/libopenblas.so.0),)
EXT_BLAS_LIBS = $(OPENBLAS_SERIAL)/libopenblas.so.0 $(OPENBLAS_SERIAL)/liblapack.so.3 \
				-Wl,-rpath,$(OPENBLAS_SERIAL)
else
EXT_BLAS_LIBS = -lopenblas -llapack
endif
SHLIB_LINK  = $(LIB_A) $(filter-out -lopenblas,$(LIB_LIBS)) $(EXT_BLAS_LIBS) \
			  $(filter-out -llapack,$(FAISS_LIBS)) -lstdc++

EXTRA_CLEAN = $(OBJS:.o=.d) $(BUILD) $(DATA_built) results regression.diffs regression.out tmp_check

# No LLVM bitcode: JIT inlining buys nothing for this code and doubles build time.
override with_llvm = no

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)
-include $(OBJS:.o=.d)

all: $(LIB_A) $(CLI_BIN) $(UNIT_BINS) $(CUDA_MODULE)

$(shlib): $(LIB_A)

sampleid--$(EXTVERSION).sql: $(EXT_SQL_PARTS)
	cat $^ > $@

$(UPGRADE_SQL): sql/update/$(UPGRADE_SQL) $(EXT_SQL_NEW)
	cat $^ > $@

$(BUILD)/lib/%.o: src/lib/%.c $(LIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) -c $< -o $@

$(BUILD)/cuda/%.o: cuda/%.cu $(wildcard cuda/*.h) $(LIB_HDRS)
	@mkdir -p $(@D)
	$(NVCC) $(NVCCFLAGS) -c $< -o $@

ifneq ($(CUDA_MODULE),)
# the module's own copy of the library parts it calls stays hidden (exclude-libs)
$(CUDA_MODULE): $(CUDA_OBJS) $(LIB_A)
	$(CXX) -shared -Wl,-Bsymbolic -Wl,--exclude-libs,ALL -Wl,--as-needed -o $@ $(CUDA_OBJS) \
		$(LIB_A) $(filter-out -lopenblas,$(LIB_LIBS)) $(EXT_BLAS_LIBS) $(CUDA_LIBS) -lstdc++
endif

# where an installed library looks for the module when no caller says
$(BUILD)/lib/nn/sid_cuda_module.o: LIB_CFLAGS += -DSID_CUDA_MODULE_DIR='"$(pkglibdir)"'

# tests of the CUDA code itself link it directly
CUDA_TEST_BINS = $(BUILD)/test/test_cuda_ops $(BUILD)/test/test_cuda_encoder $(BUILD)/bench/bench_cuda_encoder
$(CUDA_TEST_BINS): $(CUDA_OBJS)
$(CUDA_TEST_BINS): EXTRA_LIBS += $(CUDA_OBJS) $(LIB_A) $(CUDA_LIBS) -lstdc++

$(LIB_A): $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

# The CLI talks to a server with libpq (sampleid identify).
CLI_PQ_CFLAGS = -I$(shell $(PG_CONFIG) --includedir)
CLI_PQ_LIBS   = -lpq
$(CLI_BIN): $(CLI_SRCS) $(LIB_A) $(wildcard src/cli/*.h)
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) -DSAMPLEID_VERSION='"$(EXTVERSION)"' -Isrc/cli $(CLI_PQ_CFLAGS) $(filter %.c,$^) $(LIB_A) \
		$(LIB_LIBS) $(EXTRA_LIBS) $(CLI_PQ_LIBS) -o $@

$(BUILD)/test/%: test/unit/%.c $(LIB_A) test/unit/tap.h
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) -Itest/unit $< $(LIB_A) $(LIB_LIBS) $(EXTRA_LIBS) -o $@

# a C++ unit test checks the FAISS bridge against FAISS itself
$(BUILD)/test/%: test/unit/%.cpp src/ivfpq/ivfpq_faiss.o test/unit/tap.h
	@mkdir -p $(@D)
	$(CXX) $(PG_CXXFLAGS) -O2 -Isrc -Itest/unit $< src/ivfpq/ivfpq_faiss.o $(FAISS_LIBS) \
		$(EXT_BLAS_LIBS) -o $@

$(BUILD)/bench/%: test/bench/%.c $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) -Itest/unit $< $(LIB_A) $(LIB_LIBS) $(EXTRA_LIBS) -o $@

# the old resampler, measured beside libsoxr in the same run
$(BUILD)/bench/bench_frontend $(BUILD)/bench/bench_resample_fp: EXTRA_LIBS += -lsamplerate

# libFuzzer targets need clang; built on demand by scripts/test.sh.
$(BUILD)/fuzz/%: test/fuzz/%.c $(LIB_SRCS)
	@mkdir -p $(@D)
	clang -std=c11 -g -O1 -D_GNU_SOURCE -Isrc/lib -fsanitize=fuzzer,address,undefined \
		$< $(LIB_SRCS) $(LIB_LIBS) -o $@

.PHONY: unit bench fuzz install-cli install-models install-cuda-module
unit: $(UNIT_BINS)
bench: $(BENCH_BINS)
fuzz: $(FUZZ_BINS)

install: install-cli install-cuda-module
install-cuda-module: $(CUDA_MODULE)
	$(if $(CUDA_MODULE),$(INSTALL_SHLIB) $(CUDA_MODULE) '$(DESTDIR)$(pkglibdir)/')
install-cli: $(CLI_BIN)
	$(MKDIR_P) '$(DESTDIR)$(bindir)'
	$(INSTALL_PROGRAM) $(CLI_BIN) '$(DESTDIR)$(bindir)/sampleid'

# The shipped models (models/*.sidm, e.g. the default fp) where the extension looks,
# with the verifiers beside them (NAME.sidv, the second stage of sampleid_identify).
install: install-models
install-models:
	$(MKDIR_P) '$(DESTDIR)$(datadir)/extension/sampleid_models'
	$(if $(wildcard models/*.sidm),$(INSTALL_DATA) $(wildcard models/*.sidm) '$(DESTDIR)$(datadir)/extension/sampleid_models/')
	$(if $(wildcard models/*.sidv),$(INSTALL_DATA) $(wildcard models/*.sidv) '$(DESTDIR)$(datadir)/extension/sampleid_models/')
