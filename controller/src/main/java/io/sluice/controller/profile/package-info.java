/**
 * Which pipeline profile each switch gets: profile files (one per kind of switch, as data) and the choice per
 * datapath id ({@code --profile [DPID=]NAME}). The renderer compiles for a profile and refuses what it cannot hold.
 */
package io.sluice.controller.profile;
