/* lsan_graphviz: LeakSanitizer suppressions for graphviz's own leaks in the test runner. */

/* Graphviz 2.43 leaks inside its dot layout (virtual and auxiliary edges of
 * clusters), its plugin configuration (gvconfig) and the font stack it
 * loads (pango, cairo, fontconfig, glib caches), even when the caller frees
 * everything with agclose/gvFreeLayout/gvFreeContext. LeakSanitizer calls
 * this hook in ASan builds (make asan); other builds never call it. Only
 * allocations made inside these libraries are suppressed: a graph the
 * report forgets to agclose() is allocated by libcgraph, which is not
 * listed, and is still reported. */
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
