import nbformat

from aelab.course import WIDTH
from tools import output_width


def _notebook(tmp_path, outputs):
    cell = nbformat.v4.new_code_cell("pass")
    cell.outputs = outputs
    path = tmp_path / "nb.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), path)
    return path


def test_a_printed_line_over_the_width_is_listed_and_fails(tmp_path, capsys):
    _notebook(tmp_path, [nbformat.v4.new_output("stream", name="stdout", text="ok\n" + "x" * (WIDTH + 1) + "\n")])
    assert output_width.main([str(tmp_path)]) == 1
    assert "nb.ipynb, cell 0: 101 characters" in capsys.readouterr().out


def test_lines_at_the_width_and_widget_stand_ins_pass(tmp_path):
    widget = nbformat.v4.new_output("display_data", data={
        "text/plain": "VBox(" + "c" * 200 + ")",
        "application/vnd.jupyter.widget-view+json": {"model_id": "1", "version_major": 2, "version_minor": 0}})
    _notebook(tmp_path, [nbformat.v4.new_output("stream", name="stdout", text="y" * WIDTH + "\n"), widget])
    assert output_width.main([str(tmp_path)]) == 0


def test_an_empty_folder_is_an_error_not_a_pass(tmp_path):
    assert output_width.main([str(tmp_path)]) == 2
