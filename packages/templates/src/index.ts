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
export { TEMPLATE_NAME_PATTERN, TEMPLATE_NAME_RULE, createTemplate, deleteTemplate, findTemplate, getTemplate, listTemplates, templateDoc, updateTemplate, type StoredTemplate } from "./store.js";
