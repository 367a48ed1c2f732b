"""Ausgaben langsamer Beispiele, beim Bauen erzeugt und nach dem Hash ihrer Quellen zwischengespeichert.

Wie ``program-output``, aber ein Befehl läuft nur, wenn sich seine Quellen geändert haben::

    .. cached-output:: torchrun --standalone --nproc-per-node=2 examples/dcp_basics_example.py
       :quellen: examples/dcp_basics_example.py ../solutions/verteilt.py
       :prompt:

* Das Argument ist der Befehl (ohne Shell), wahlweise mit Umgebungsvariablen davor
  (``OMP_NUM_THREADS=1 torchrun …``); er läuft im Ordner der Lektion.
* ``:quellen:`` (Pflicht) sind die Dateien, von denen die Ausgabe abhängt, relativ zur Lektion.
  Der Hash über Befehl, Quellen und die torch-Version benennt die Datei in
  ``source/_generated/ausgaben/``. Ändert sich eine Quelle, liest Sphinx die Lektion neu und der
  Befehl läuft erneut.
* ``:prompt:`` zeigt den Befehl mit ``$`` über der Ausgabe.

Endet der Befehl nicht mit dem Status 0, meldet der Bau eine Warnung (mit ``-W`` ein Fehler), und
nichts wird gespeichert.
"""

import hashlib
import os
import re
import shlex
import subprocess
from importlib.metadata import version
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)
TIMEOUT = 900  # Sekunden
ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=.*")  # NAME=WERT vor dem Befehl


class CachedOutputDirective(SphinxDirective):
    required_arguments = 1
    final_argument_whitespace = True
    option_spec = {"quellen": directives.unchanged_required, "prompt": directives.flag}

    def run(self):
        if "quellen" not in self.options:
            raise self.error("cached-output: Die Option :quellen: fehlt (Dateien, von denen die Ausgabe abhängt).")
        command = self.arguments[0]
        folder = Path(self.env.doc2path(self.env.docname)).parent
        digest = hashlib.sha256(f"{command}\n{version('torch')}\n".encode())
        for name in self.options["quellen"].split():
            path = (folder / name).resolve()
            if not path.is_file():
                raise self.error(f"cached-output: Die Quelle {name} gibt es nicht.")
            self.env.note_dependency(str(path))
            digest.update(name.encode() + b"\0" + path.read_bytes())
        words = shlex.split(command)
        script = next((word for word in reversed(words) if word.endswith(".py")), words[0])
        prefix = f"{Path(script).stem}-{hashlib.sha256(command.encode()).hexdigest()[:8]}"
        cache = Path(self.env.srcdir) / "_generated" / "ausgaben" / f"{prefix}-{digest.hexdigest()[:20]}.txt"
        if cache.exists():
            output = cache.read_text(encoding="utf-8")
        else:
            output = self._execute(command, folder, cache)
        if "prompt" in self.options:
            output = f"$ {command}\n{output}"
        block = nodes.literal_block(output, output)
        block["language"] = "console" if "prompt" in self.options else "text"
        block.source, block.line = self.get_source_info()
        return [block]

    def _execute(self, command, folder, cache):
        words, environment = shlex.split(command), dict(os.environ)
        while words and ASSIGNMENT.fullmatch(words[0]):
            name, value = words.pop(0).split("=", 1)
            environment[name] = value
        try:
            result = subprocess.run(words, cwd=folder, env=environment, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True, timeout=TIMEOUT)
        except (OSError, subprocess.TimeoutExpired) as error:
            logger.warning("cached-output: %r ließ sich nicht ausführen: %s", command, error,
                           location=self.get_location())
            return ""
        output = result.stdout.rstrip("\n")
        if result.returncode != 0:
            logger.warning("cached-output: %r endete mit dem Status %d:\n%s", command, result.returncode, output,
                           location=self.get_location())
            return output
        cache.parent.mkdir(parents=True, exist_ok=True)
        for old in cache.parent.glob(f"{cache.name.rsplit('-', 1)[0]}-*.txt"):
            old.unlink(missing_ok=True)  # ältere Ausgaben desselben Befehls
        temporary = cache.with_name(f".{cache.name}.{os.getpid()}.tmp")
        temporary.write_text(output, encoding="utf-8")
        os.replace(temporary, cache)
        return output


def setup(app):
    app.add_directive("cached-output", CachedOutputDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
