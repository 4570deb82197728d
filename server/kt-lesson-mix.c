/* A lesson's mix-minus: room taps into a KtMixMinus, outputs into room
 * sources, the wanted state kept so a failed pipeline can be rebuilt. */
#include "kt-lesson-mix.h"

#include "kt-mix-minus.h"
#include "kt-tap-link.h"

#define REBUILD_AFTER_MS 1000 /* after a failure; again every RETRY_AFTER_MS if it fails */
#define RETRY_AFTER_MS 5000

typedef struct {
	guint source;
	char *owner;
	gboolean audible;
	KtTapLink *tap; /* the source -> its input of the mix, while attached */
} Input;

typedef struct {
	guint source;
	char *owner;
	guint output; /* the mix's output id; 0 = not running */
} Output;

struct _KtLessonMix {
	char *lesson;
	KtRoom *room;
	KtMixMinusConfig cfg;
	KtMixMinus *mm;     /* NULL between a failure and its rebuild */
	GPtrArray *inputs;  /* Input* */
	GPtrArray *outputs; /* Output* */
	guint rebuild_timer;
	guint rebuilds;
};

/* Media worker: every packet the room forwards for the source (muted ones are not). */
static void push_to_mix(gpointer mm, guint input, const guint8 *rtp, gsize len, KtCodec codec)
{
	kt_mix_minus_push(mm, input, rtp, len, codec);
}

static void input_attach(KtLessonMix *mix, Input *in)
{
	g_autoptr(GError) error = NULL;
	guint id;

	if (!mix->mm)
		return;
	id = kt_mix_minus_add_input(mix->mm, in->owner, 48000, &error);
	if (!id) {
		g_warning("lesson %s: source %u not in the mix: %s", mix->lesson, in->source,
		          error->message);
		return;
	}
	kt_mix_minus_set_input_audible(mix->mm, id, in->audible);
	kt_tap_link_set(in->tap, mix->mm, id);
}

static void input_detach(KtLessonMix *mix, Input *in)
{
	guint id = kt_tap_link_get_input(in->tap);

	kt_tap_link_set(in->tap, NULL, 0);
	/* After the swap: the worker no longer pushes to this input. */
	if (id && mix->mm)
		kt_mix_minus_remove_input(mix->mm, id);
}

static void output_attach(KtLessonMix *mix, Output *out)
{
	g_autoptr(GError) error = NULL;

	if (!mix->mm)
		return;
	out->output = kt_mix_minus_add_output(mix->mm, out->owner, out->source, &error);
	if (!out->output)
		g_warning("lesson %s: no mix for %s: %s", mix->lesson, out->owner, error->message);
}

static void output_detach(KtLessonMix *mix, Output *out)
{
	if (out->output && mix->mm)
		kt_mix_minus_remove_output(mix->mm, out->output);
	out->output = 0;
}

static Input *input_new(KtLessonMix *mix, const KtLessonMixInput *want)
{
	Input *in = g_new0(Input, 1);

	in->source = want->source;
	in->owner = g_strdup(want->owner);
	in->audible = want->audible;
	in->tap = kt_tap_link_new(mix->room, in->source, push_to_mix);
	input_attach(mix, in);
	return in;
}

static void input_free(KtLessonMix *mix, Input *in)
{
	input_detach(mix, in);
	kt_tap_link_free(in->tap);
	g_free(in->owner);
	g_free(in);
}

static void output_free(KtLessonMix *mix, Output *out)
{
	output_detach(mix, out);
	g_free(out->owner);
	g_free(out);
}

/* ---- the pipeline, and its rebuild after a failure ---- */

static void on_mix_error(KtMixMinus *mm, const GError *error, gpointer data);

static gboolean start_pipeline(KtLessonMix *mix, GError **error)
{
	mix->mm = kt_mix_minus_new(mix->room, &mix->cfg, error);
	if (!mix->mm)
		return FALSE;
	for (guint i = 0; i < mix->inputs->len; i++)
		input_attach(mix, g_ptr_array_index(mix->inputs, i));
	for (guint i = 0; i < mix->outputs->len; i++)
		output_attach(mix, g_ptr_array_index(mix->outputs, i));
	return TRUE;
}

static void stop_pipeline(KtLessonMix *mix)
{
	for (guint i = 0; i < mix->inputs->len; i++)
		input_detach(mix, g_ptr_array_index(mix->inputs, i));
	for (guint i = 0; i < mix->outputs->len; i++)
		((Output *)g_ptr_array_index(mix->outputs, i))->output = 0;
	g_clear_pointer(&mix->mm, kt_mix_minus_free); /* removes the outputs' feeds */
}

static gboolean on_rebuild(gpointer data)
{
	KtLessonMix *mix = data;
	g_autoptr(GError) error = NULL;

	mix->rebuild_timer = 0;
	stop_pipeline(mix);
	mix->rebuilds++;
	if (!start_pipeline(mix, &error)) {
		g_warning("lesson %s: the audio mix cannot restart (%s); trying again in %d s",
		          mix->lesson, error->message, RETRY_AFTER_MS / 1000);
		mix->rebuild_timer = g_timeout_add(RETRY_AFTER_MS, on_rebuild, mix);
	} else {
		g_message("lesson %s: the audio mix restarted (%u inputs, %u outputs)", mix->lesson,
		          mix->inputs->len, mix->outputs->len);
	}
	return G_SOURCE_REMOVE;
}

/* Control loop, from inside the pipeline's bus watch: it may not be freed
 * here, so the rebuild runs from a timer. */
static void on_mix_error(KtMixMinus *mm, const GError *error, gpointer data)
{
	KtLessonMix *mix = data;

	g_warning("lesson %s: the audio mix failed (%s); rebuilding it", mix->lesson,
	          error->message);
	if (!mix->rebuild_timer)
		mix->rebuild_timer = g_timeout_add(REBUILD_AFTER_MS, on_rebuild, mix);
}

/* ---- public ---- */

KtLessonMix *kt_lesson_mix_new(const KtLessonMixConfig *config, GError **error)
{
	KtLessonMix *mix = g_new0(KtLessonMix, 1);

	mix->lesson = g_strdup(config->lesson);
	mix->room = kt_room_ref(config->room);
	mix->cfg.kbps = config->kbps;
	mix->cfg.on_error = on_mix_error;
	mix->cfg.user_data = mix;
	mix->inputs = g_ptr_array_new();
	mix->outputs = g_ptr_array_new();
	if (!start_pipeline(mix, error)) {
		kt_lesson_mix_free(mix);
		return NULL;
	}
	return mix;
}

static const KtLessonMixInput *find_input(const KtLessonMixInput *list, guint n, guint source)
{
	for (guint i = 0; i < n; i++)
		if (list[i].source == source)
			return &list[i];
	return NULL;
}

static void set_inputs(KtLessonMix *mix, const KtLessonMixInput *want, guint n)
{
	for (guint i = mix->inputs->len; i-- > 0;) {
		Input *in = g_ptr_array_index(mix->inputs, i);
		const KtLessonMixInput *w = find_input(want, n, in->source);

		if (!w) {
			g_ptr_array_remove_index(mix->inputs, i);
			input_free(mix, in);
		} else if (g_strcmp0(w->owner, in->owner) != 0) {
			/* Rejoined under the same name: the same source, a new owner id. */
			input_detach(mix, in);
			g_free(in->owner);
			in->owner = g_strdup(w->owner);
			in->audible = w->audible;
			input_attach(mix, in);
		} else if (w->audible != in->audible) {
			in->audible = w->audible;
			if (mix->mm && kt_tap_link_get_input(in->tap))
				kt_mix_minus_set_input_audible(
				    mix->mm, kt_tap_link_get_input(in->tap), in->audible);
		}
	}
	for (guint j = 0; j < n; j++) {
		gboolean known = FALSE;

		for (guint i = 0; i < mix->inputs->len && !known; i++)
			known =
			    ((Input *)g_ptr_array_index(mix->inputs, i))->source == want[j].source;
		if (!known && want[j].source)
			g_ptr_array_add(mix->inputs, input_new(mix, &want[j]));
	}
}

static void set_outputs(KtLessonMix *mix, const KtLessonMixOutput *want, guint n)
{
	for (guint i = mix->outputs->len; i-- > 0;) {
		Output *out = g_ptr_array_index(mix->outputs, i);
		gboolean keep = FALSE;

		for (guint j = 0; j < n && !keep; j++)
			keep = want[j].source == out->source &&
			       g_strcmp0(want[j].owner, out->owner) == 0;
		if (!keep) {
			g_ptr_array_remove_index(mix->outputs, i);
			output_free(mix, out);
		}
	}
	for (guint j = 0; j < n; j++) {
		gboolean known = FALSE;
		Output *out;

		for (guint i = 0; i < mix->outputs->len && !known; i++)
			known = ((Output *)g_ptr_array_index(mix->outputs, i))->source ==
			        want[j].source;
		if (known || !want[j].source)
			continue;
		out = g_new0(Output, 1);
		out->source = want[j].source;
		out->owner = g_strdup(want[j].owner);
		output_attach(mix, out);
		g_ptr_array_add(mix->outputs, out);
	}
}

void kt_lesson_mix_set(KtLessonMix *mix, const KtLessonMixInput *inputs, guint n_inputs,
                       const KtLessonMixOutput *outputs, guint n_outputs)
{
	/* Outputs first: one that goes away stops before its owner's input changes. */
	set_outputs(mix, outputs, n_outputs);
	set_inputs(mix, inputs, n_inputs);
}

guint kt_lesson_mix_get_rebuilds(KtLessonMix *mix)
{
	return mix->rebuilds;
}

KtMixMinus *kt_lesson_mix_get_mix_minus(KtLessonMix *mix)
{
	return mix->mm;
}

void kt_lesson_mix_free(KtLessonMix *mix)
{
	if (!mix)
		return;
	if (mix->rebuild_timer)
		g_source_remove(mix->rebuild_timer);
	for (guint i = 0; i < mix->outputs->len; i++)
		output_free(mix, g_ptr_array_index(mix->outputs, i));
	for (guint i = 0; i < mix->inputs->len; i++)
		input_free(mix, g_ptr_array_index(mix->inputs, i));
	g_ptr_array_unref(mix->outputs);
	g_ptr_array_unref(mix->inputs);
	kt_mix_minus_free(mix->mm);
	kt_room_unref(mix->room);
	g_free(mix->lesson);
	g_free(mix);
}
