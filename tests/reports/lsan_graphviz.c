/* lsan_graphviz: LeakSanitizer suppressions for graphviz's own leaks in the test runner. */

/* Graphviz 2.43 leaks inside its dot layout (virtual and auxiliary edges of
 * clusters), its plugin configuration (gvconfig) and the font stack it
 * loads (pango, cairo, fontconfig, glib caches), even when the caller frees
 * everything with agclose/gvFreeLayout/gvFreeContext. LeakSanitizer calls
 * this hook in ASan builds (make asan); other builds never call it. The
 * price: a leak whose allocation stack passes through these libraries is
 * hidden too (a graph laid out but never agclose()d is among them), so the
 * report code frees its graphs on every path by construction
 * (rpt_graph_render's callers agclose right after rendering).
 */
const char *__lsan_default_suppressions(void);

const char *__lsan_default_suppressions(void)
{
    return "leak:libgvc.so\n"
           "leak:libgvplugin_dot_layout.so\n"
           "leak:libgvplugin_pango.so\n"
           "leak:libgvplugin_core.so\n"
           "leak:libpango\n"
           "leak:libcairo.so\n"
           "leak:libfontconfig.so\n"
           "leak:libglib-2.0.so\n";
}
