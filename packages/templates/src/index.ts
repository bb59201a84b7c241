export {
  compileTemplate,
  renderTemplate,
  TEMPLATE_PARTS,
  type CompiledTemplate,
  type Rendered,
  type TemplateFieldError,
  type TemplatePart,
  type TemplateSource,
} from "./render.js";
export { createTemplate, deleteTemplate, findTemplate, getTemplate, listTemplates, templateDoc, updateTemplate, type StoredTemplate } from "./store.js";
