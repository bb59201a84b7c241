export { loadTlsCredentials, TlsConfigError, type TlsCredentials, type TlsOptions } from "./credentials.js";
