/** Sluice's own records, events and ClusterModel; depends on no other module. */
package io.sluice.model;
