/*
 * device.c - the sampleid.device setting and sampleid_device().
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "pg/sampleid.h"
#include "nn/sid_cuda_module.h"
#include "nn/sid_device.h"

static int	sampleid_device = SID_DEVICE_AUTO;

static const struct config_enum_entry device_options[] = {
	{"auto", SID_DEVICE_AUTO, false},
	{"cpu", SID_DEVICE_CPU, false},
	{"cuda", SID_DEVICE_CUDA, false},
	{NULL, 0, false}
};

void
sampleid_device_init(void)
{
	char		module[MAXPGPATH];

	/* loaded only when a device resolves to cuda, from beside sampleid.so */
	snprintf(module, sizeof(module), "%s/%s", pkglib_path, SID_CUDA_MODULE_FILE);
	sid_cuda_module_set_path(module);
	DefineCustomEnumVariable("sampleid.device",
							 "Compute device for neural inference: auto, cpu or cuda.",
							 "auto uses a GPU when the build has CUDA and one is usable, else the CPU.",
							 &sampleid_device,
							 SID_DEVICE_AUTO,
							 device_options,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);
}

/*
 * The device inference will run on in this backend; ERROR when cuda is
 * demanded and there is none.
 */
static int
resolve_or_error(char *why, size_t why_len)
{
	int			device = sid_device_resolve((sid_device_kind) sampleid_device, why, why_len);

	if (device < 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("sampleid.device is \"cuda\" but no CUDA device can be used"),
				 errdetail("%s", why),
				 errhint("Set sampleid.device to \"auto\" or \"cpu\".")));
	return device;
}

int
sampleid_current_device(void)
{
	char		why[512];

	return resolve_or_error(why, sizeof(why));
}

PG_FUNCTION_INFO_V1(sampleid_device_info);
Datum
sampleid_device_info(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	char		why[512];
	int			device;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	device = resolve_or_error(why, sizeof(why));
	values[0] = CStringGetTextDatum(device_options[sampleid_device].name);
	values[1] = CStringGetTextDatum(device == SID_DEVICE_CUDA ? "cuda" : "cpu");
	values[2] = BoolGetDatum(sid_built_with_cuda());
	values[3] = CStringGetTextDatum(why);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
