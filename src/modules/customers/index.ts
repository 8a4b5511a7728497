// The customers module's public face: other modules and the app import it only from here.
export { customersRouter } from './customers-router';
export { registerCustomersPaths } from './customers-openapi';
export { seedDemoCustomers } from './customers-demo';
export { CUSTOMER_SELECT, toCustomer, type Customer, type CustomerRow } from './customers-repository';
export { CUSTOMER_LIST_FILTERS, CUSTOMER_STATUSES, CustomerSchema, type CustomerStatus } from './customers-schemas';
export { IMPORT_ROUTE } from './customers-import';
