/* inspect: `enroot inspect URI`, what a registry image is, as JSON, without downloading its
 * layers: the manifest (digest, media type, layers) and the config (platform, created,
 * Env, Entrypoint, Cmd, WorkingDir, User, Labels). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/config.h"
#include "base/json.h"
#include "base/msg.h"
#include "base/opt.h"
#include "registry/imageref.h"
#include "registry/regquery.h"
#include "registry/registry.h"
#include "cmd.h"

const char inspect_usage[] =
    "Usage: enroot inspect [options] [--] URI\n"
    "\n"
    "Print what a registry image is (manifest and configuration) as JSON,\n"
    "without downloading its layers.\n"
    "\n"
    " Options:\n"
    "   -a, --arch   Architecture of the image (defaults to host "
    "architecture)\n";

/* ,"KEY":VALUE of the config's .config.KEY (null when absent). */
static int put_field(struct buf *o, json_t cfg, const char *key)
{
	return buf_printf(o, ",\"%s\":", key) < 0 ||
	       json_write(o, json_path(cfg, "config", key, NULL));
}

static int render(struct buf *o, const char *uri, const struct registry_image *img, json_t cfg)
{
	static const char *const fields[] = {"Env",	   "Entrypoint", "Cmd",
					     "WorkingDir", "User",	 "Labels"};
	int rc = buf_adds(o, "{\"Name\":") || json_write_string(o, uri) ||
		 buf_printf(o, ",\"Digest\":\"%s\",\"MediaType\":", img->manifest_digest) < 0 ||
		 json_write_string(o, img->manifest_media_type ? img->manifest_media_type : "") ||
		 buf_adds(o, ",\"Architecture\":") ||
		 json_write(o, json_get(cfg, "architecture")) || buf_adds(o, ",\"Os\":") ||
		 json_write(o, json_get(cfg, "os")) || buf_adds(o, ",\"Variant\":") ||
		 json_write(o, json_get(cfg, "variant")) || buf_adds(o, ",\"Created\":") ||
		 json_write(o, json_get(cfg, "created")) ||
		 buf_printf(o, ",\"Config\":{\"Digest\":\"%s\",\"Size\":%lld}", img->config.digest,
			    img->config.size) < 0 ||
		 buf_adds(o, ",\"Layers\":[");

	for (size_t i = 0; !rc && i < img->nlayers; i++)
		rc =
		    buf_printf(o, "%s{\"Digest\":\"%s\",\"Size\":%lld,\"MediaType\":", i ? "," : "",
			       img->layers[i].digest, img->layers[i].size) < 0 ||
		    json_write_string(o,
				      img->layers[i].media_type ? img->layers[i].media_type : "") ||
		    buf_addc(o, '}');
	rc = rc || buf_addc(o, ']');
	for (size_t i = 0; !rc && i < sizeof(fields) / sizeof(fields[0]); i++)
		rc = put_field(o, cfg, fields[i]);
	return rc || buf_adds(o, "}\n");
}

int cmd_inspect(int argc, char **argv)
{
	static const struct opt opts[] = {{"arch", 'a', 1, 'a'}, {NULL, 0, 0, 0}};
	const char *arch = NULL;
	struct imageref_platform plat;
	struct registry_image img;
	struct imageref ref;
	struct registry r;
	struct buf cfgtext = BUF_INIT, out = BUF_INIT;
	struct optparse p;
	char *creds, why[256];
	json_t cfg;
	int id;

	opt_init(&p, argc, argv);
	while ((id = opt_next(&p, opts)) != OPT_DONE) {
		if (id == OPT_HELP)
			usage_exit(inspect_usage, 0);
		if (id == OPT_BAD)
			opt_fail(&p, inspect_usage);
		arch = p.arg;
	}
	if (argc - p.ind != 1)
		usage_exit(inspect_usage, 1);
	cmd_registry_open(argv[p.ind], arch, &ref, &plat, &r, &creds);
	if (registry_resolve(&r, &img) < 0 || regquery_config(&r, &img.config, &cfgtext) < 0)
		die("%s", r.why);
	if (!(cfg = json_parse(cfgtext.data ? cfgtext.data : "", cfgtext.len, why, sizeof(why))) ||
	    !json_is_object(cfg))
		die("failed to parse image configuration: %s", cfg ? "not an object" : why);
	if (render(&out, argv[p.ind], &img, cfg))
		die("out of memory");
	fwrite(out.data, 1, out.len, stdout);
	buf_free(&out);
	buf_free(&cfgtext);
	json_free(cfg);
	manifest_image_free(&img);
	registry_close(&r);
	imageref_free(&ref);
	free(creds);
	return fflush(stdout) ? 1 : 0;
}
