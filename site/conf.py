# Sphinx configuration of the course site (make site). tools/build_site.py copies this file next to
# the executed notebooks and runs sphinx-build; nothing is executed here (nb_execution_mode = "off").
project = "aelab: autoencoders, from PCA to activation maximization"
author = "the aelab authors"
extensions = ["myst_nb"]
exclude_patterns = ["_build", "_extra", "**.ipynb_checkpoints"]

nb_execution_mode = "off"            # the notebooks arrive executed (make test saves them)
nb_output_stderr = "remove"          # progress bars and log lines are not for readers
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_dmath_double_inline = True      # $$...$$ inside a paragraph, as JupyterLab renders it

html_theme = "sphinx_book_theme"
html_title = "aelab: a course on autoencoders"
html_theme_options = {
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "use_download_button": True,     # the executed notebook, as shown
}
html_static_path = ["_static"]
html_css_files = ["aelab.css"]
html_extra_path = ["_extra"]         # notebooks/ and assignments/: the pages link to them

# MathJax 2 served with the site (from the jupyter-server-mathjax package), so math renders offline.
mathjax_path = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"
mathjax2_config = {"tex2jax": {"inlineMath": [["\\(", "\\)"]], "displayMath": [["\\[", "\\]"]],
                               "processRefs": False, "processEnvironments": False},
                   # the package ships the STIX-Web fonts only
                   "HTML-CSS": {"availableFonts": ["STIX-Web"], "preferredFont": "STIX-Web", "webFont": "STIX-Web",
                                "imageFont": None}}
myst_update_mathjax = False          # MyST's MathJax 3 settings would not apply to MathJax 2
