// @dmabuf/create-plugin: writes a new heap, exporter or importer project on the @dmabuf packages.

export { PLUGIN_KINDS, type PluginKind, type ScaffoldOptions, scaffold } from "./scaffold.js";
