# The one source of plrf's version: pyproject.toml (scikit-build-core's regex provider) and
# CMakeLists.txt (project(VERSION)) both read the line below.
__version__ = "0.1.0"
